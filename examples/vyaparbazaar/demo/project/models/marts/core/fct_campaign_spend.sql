select
    s.spend_id,
    s.campaign_id,
    c.channel,
    s.spend_date,
    s.spend_inr,
    s.impressions,
    s.clicks
from {{ ref('stg_campaign_spend') }} as s
inner join {{ ref('stg_campaigns') }} as c on c.campaign_id = s.campaign_id
