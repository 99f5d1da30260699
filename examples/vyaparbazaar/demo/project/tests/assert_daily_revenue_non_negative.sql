-- Net revenue (order value less refunds) can never be negative on a day:
-- a refund is at most what was paid for the order it refunds.
select
    order_date,
    gross_revenue_inr,
    net_revenue_inr
from {{ ref('mart_daily_sales') }}
where net_revenue_inr < 0
   or gross_revenue_inr < 0
