{#-
    The mailbox an e-mail address delivers to, for matching (identity resolution):
      * trimmed and lower-cased; NULL when empty or without an '@';
      * a '+tag' in the local part is removed, for every domain (a+news@x = a@x);
      * for gmail.com / googlemail.com the dots in the local part are removed (Gmail ignores
        them) and googlemail.com becomes gmail.com.
    Keep the address as written beside it (`email`); this is `email_normalized`.
-#}
{% macro normalize_email(column) -%}
    case
        when strpos(lower(trim({{ column }})), '@') > 1
            then
                case
                    when
                        split_part(lower(trim({{ column }})), '@', 2)
                        in ('gmail.com', 'googlemail.com')
                        then replace(
                            split_part(split_part(lower(trim({{ column }})), '@', 1), '+', 1),
                            '.',
                            ''
                        ) || '@gmail.com'
                    else
                        split_part(split_part(lower(trim({{ column }})), '@', 1), '+', 1)
                        || '@'
                        || split_part(lower(trim({{ column }})), '@', 2)
                end
    end
{%- endmacro %}
