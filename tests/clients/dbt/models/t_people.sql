{{ config(materialized='table') }}
select id, upper(name) as name from {{ ref('v_people') }}
