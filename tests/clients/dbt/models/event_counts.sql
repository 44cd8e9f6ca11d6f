{{ config(materialized='materialized_view') }}
SELECT data->>'event' AS event, count(*) AS n
FROM {{ source('segment', 'dbt_events') }}
GROUP BY 1
