{# Money helpers. Amounts are rupees (INR) with two decimals. #}

{% macro inr(expr) -%}
round({{ expr }}, 2)::DECIMAL(18,2)
{%- endmacro %}

{# GST contained in a GST-inclusive amount, rate in percent (18 = 18%). #}
{% macro gst_amount(amount, rate) -%}
round({{ amount }} * {{ rate }} / (100 + {{ rate }}), 2)::DECIMAL(18,2)
{%- endmacro %}

{# Division that yields NULL instead of failing on a zero denominator. #}
{% macro safe_divide(numerator, denominator, digits=4) -%}
round(({{ numerator }})::DOUBLE / nullif(({{ denominator }})::DOUBLE, 0), {{ digits }})
{%- endmacro %}
