{{
    config(
        materialized='incremental',
        unique_key='movement_id',
        incremental_strategy='delete+insert'
    )
}}

select
    movement_id,
    warehouse_id,
    product_id,
    movement_ts,
    movement_date,
    movement_type,
    quantity,
    greatest(quantity, 0) as units_in,
    greatest(-quantity, 0) as units_out,
    order_item_id
from {{ ref('stg_inventory_movements') }}

{% if is_incremental() %}
where movement_ts > (select max(movement_ts) from {{ this }})
{% endif %}
