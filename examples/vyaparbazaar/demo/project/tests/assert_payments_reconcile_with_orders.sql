-- Every delivered order must have been paid in full: captured payments less
-- refunds equal the order total within a rupee.
select
    order_id,
    order_total_inr,
    amount_paid_inr,
    amount_refunded_inr
from {{ ref('fct_orders') }}
where status = 'delivered'
  and abs(amount_paid_inr - amount_refunded_inr - order_total_inr) > {{ var('reconciliation_tolerance_inr', 1) }}
