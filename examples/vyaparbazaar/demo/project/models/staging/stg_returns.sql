select
    return_id,
    order_id,
    order_item_id,
    lower(reason) as return_reason,
    lower(item_condition) as item_condition,
    quantity,
    returned_at,
    cast(returned_at as date) as return_date,
    {{ inr('refund_amount_inr') }} as refund_amount_inr,
    _loaded_at
from {{ source('raw', 'returns') }}
