select
    campaign_id,
    campaign_name,
    channel,
    objective,
    start_date,
    end_date,
    planned_days,
    budget_inr,
    coupon_code,
    discount_pct
from {{ ref('stg_campaigns') }}
