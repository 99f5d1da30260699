{#- Calendar from var('calendar_start') to var('calendar_end'), with the
    Indian fiscal year (April to March). -#}
with days as (

    select cast(d as date) as date_day
    from range(
        date '{{ var("calendar_start") }}',
        date '{{ var("calendar_end") }}' + interval 1 day,
        interval 1 day
    ) as t(d)

),

parts as (

    select
        date_day,
        year(date_day) as calendar_year,
        month(date_day) as month_of_year,
        case when month(date_day) >= 4 then year(date_day) else year(date_day) - 1 end as fiscal_year_start
    from days

)

select
    date_day,
    cast(strftime(date_day, '%Y%m%d') as integer) as date_key,
    calendar_year,
    quarter(date_day) as calendar_quarter,
    month_of_year,
    monthname(date_day) as month_name,
    cast(date_trunc('month', date_day) as date) as month_start,
    cast(last_day(date_day) as date) as month_end,
    cast(date_trunc('week', date_day) as date) as week_start,
    weekofyear(date_day) as iso_week,
    isodow(date_day) as day_of_week,
    dayname(date_day) as day_name,
    isodow(date_day) in (6, 7) as is_weekend,
    date_day = last_day(date_day) as is_month_end,
    'FY' || fiscal_year_start || '-' || right(cast(fiscal_year_start + 1 as varchar), 2) as fiscal_year,
    ((month_of_year + 8) % 12) // 3 + 1 as fiscal_quarter,
    strftime(date_day, '%m-%d') in ('01-26', '08-15', '10-02') as is_national_holiday
from parts
