{#- Campaign performance (marketing-analytics, 08:00 daily). Orders are
    attributed to the campaign recorded at checkout (last touch). -#}
with campaigns as (

    select * from {{ ref('dim_campaigns') }}

),

spend as (

    select
        campaign_id,
        count(*) as active_days,
        sum(spend_inr) as spend_inr,
        sum(impressions) as impressions,
        sum(clicks) as clicks
    from {{ ref('fct_campaign_spend') }}
    group by campaign_id

),

attributed as (

    select
        campaign_id,
        count(*) as attributed_orders,
        count(case when is_first_order then 1 end) as new_customers,
        count(case when coupon_code is not null then 1 end) as coupon_orders,
        sum(order_total_inr) as attributed_revenue_inr,
        sum(amount_refunded_inr) as attributed_refunds_inr
    from {{ ref('fct_orders') }}
    where campaign_id is not null
      and not is_cancelled
    group by campaign_id

)

select
    c.campaign_id,
    c.campaign_name,
    c.channel,
    c.objective,
    c.start_date,
    c.end_date,
    c.budget_inr,
    coalesce(s.active_days, 0) as active_days,
    {{ inr('coalesce(s.spend_inr, 0)') }} as spend_inr,
    coalesce(s.impressions, 0) as impressions,
    coalesce(s.clicks, 0) as clicks,
    coalesce(a.attributed_orders, 0) as attributed_orders,
    coalesce(a.new_customers, 0) as new_customers,
    coalesce(a.coupon_orders, 0) as coupon_orders,
    {{ inr('coalesce(a.attributed_revenue_inr, 0)') }} as attributed_revenue_inr,
    {{ inr('coalesce(a.attributed_revenue_inr, 0) - coalesce(a.attributed_refunds_inr, 0)') }} as attributed_net_revenue_inr,
    {{ safe_divide('s.clicks', 's.impressions') }} as ctr,
    {{ inr(safe_divide('s.spend_inr', 's.clicks')) }} as cpc_inr,
    {{ inr(safe_divide('s.spend_inr', 'a.attributed_orders')) }} as cpa_inr,
    {{ inr(safe_divide('s.spend_inr', 'a.new_customers')) }} as cac_inr,
    {{ safe_divide('a.attributed_revenue_inr - coalesce(a.attributed_refunds_inr, 0)', 's.spend_inr', 2) }} as roas,
    {{ safe_divide('s.spend_inr', 'c.budget_inr') }} as budget_utilisation
from campaigns as c
left join spend as s on s.campaign_id = c.campaign_id
left join attributed as a on a.campaign_id = c.campaign_id
