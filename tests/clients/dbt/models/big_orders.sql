{{ config(materialized='materialized_view') }}
SELECT data->>'messageId' AS message_id, (data->'properties'->>'revenue')::numeric AS revenue
FROM {{ source('segment', 'dbt_events') }}
WHERE data->>'event' = 'Order Completed'
