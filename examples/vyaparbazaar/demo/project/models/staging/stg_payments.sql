select
    payment_id,
    order_id,
    -- the gateway reports UPI and COD in capitals, the rest in snake case
    lower(method) as payment_method,
    provider,
    {{ inr('amount_inr') }} as amount_inr,
    lower(status) as payment_status,
    paid_at,
    cast(paid_at as date) as paid_date,
    _loaded_at
from {{ source('raw', 'payments') }}
