{#
  Use the +schema of a folder as the schema name itself ("staging",
  "marts", ...) rather than dbt's default "<target schema>_<custom>".
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
