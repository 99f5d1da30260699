select
    order_item_id,
    order_id,
    line_number,
    product_id,
    quantity,
    {{ inr('unit_price_inr') }} as unit_price_inr,
    {{ inr('unit_price_inr * quantity') }} as gross_amount_inr,
    {{ inr('discount_inr') }} as discount_inr,
    {{ inr('unit_price_inr * quantity - discount_inr') }} as net_amount_inr,
    _loaded_at
from {{ source('raw', 'order_items') }}
