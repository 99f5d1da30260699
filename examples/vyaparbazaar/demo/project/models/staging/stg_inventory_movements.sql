select
    movement_id,
    warehouse_id,
    product_id,
    movement_ts,
    cast(movement_ts as date) as movement_date,
    lower(movement_type) as movement_type,
    quantity,
    -- sales and returns point at the order item they move
    reference_id as order_item_id,
    _loaded_at
from {{ source('raw', 'inventory_movements') }}
