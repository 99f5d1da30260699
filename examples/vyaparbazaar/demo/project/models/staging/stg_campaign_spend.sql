select
    spend_id,
    campaign_id,
    spend_date,
    {{ inr('spend_inr') }} as spend_inr,
    impressions,
    clicks,
    _loaded_at
from {{ source('raw', 'campaign_spend') }}
