{{ config(materialized='view') }}
SELECT event, n FROM {{ ref('event_counts') }} WHERE n > 1
