select
    campaign_id,
    trim(name) as campaign_name,
    lower(channel) as channel,
    lower(objective) as objective,
    start_date,
    end_date,
    date_diff('day', start_date, end_date) + 1 as planned_days,
    {{ inr('budget_inr') }} as budget_inr,
    upper(coupon_code) as coupon_code,
    discount_pct,
    _loaded_at
from {{ source('raw', 'campaigns') }}
