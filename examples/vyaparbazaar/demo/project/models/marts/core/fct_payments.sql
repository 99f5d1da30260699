select
    p.payment_id,
    p.order_id,
    o.customer_id,
    p.payment_method,
    p.provider,
    p.payment_status,
    p.amount_inr,
    case
        when p.payment_status = 'success' then p.amount_inr
        when p.payment_status = 'refunded' then -p.amount_inr
        else 0
    end as net_amount_inr,
    p.paid_at,
    p.paid_date
from {{ ref('stg_payments') }} as p
inner join {{ ref('stg_orders') }} as o on o.order_id = p.order_id
