{#
    Terms of a post for "what is this spike about" (mart_spike_drivers). term_words: the lower-cased words of
    the redacted text, handles, links and anything with a digit masked (they are never terms), stop words out.
    ngrams: every 1-, 2- and 3-gram of those words, each once per post. Words are ASCII letters with an inner
    apostrophe (RE2's [[:alpha:]] is ASCII; spelled out so that PostgreSQL reads the same).
#}
{% macro term_words(text) -%}{{ return(adapter.dispatch('term_words', 'socialcx')(text)) }}{%- endmacro %}

{% macro _term_candidates(text) -%}
    {{ regex_all(
        "lower(regexp_replace(" ~ text ~ ", '@[^[:space:]]+|https?://[^[:space:]]+|[^[:space:]]*[0-9][^[:space:]]*', ' ', 'g'))",
        "'[A-Za-z]+(?:''[A-Za-z]+)?'"
    ) }}
{%- endmacro %}

{% macro default__term_words(text) -%}
    list_filter(
        {{ _term_candidates(text) }},
        lambda w: len(w) > 1 and not list_contains({{ stop_words() }}, w)
    )
{%- endmacro %}

{% macro postgres__term_words(text) -%}
    array(
        select word from unnest({{ _term_candidates(text) }}) with ordinality as words(word, position)
        where length(word) > 1 and not word = any({{ stop_words() }})
        order by position
    )
{%- endmacro %}

{% macro ngrams(words) -%}{{ return(adapter.dispatch('ngrams', 'socialcx')(words)) }}{%- endmacro %}

{% macro default__ngrams(words) -%}
    list_distinct(flatten([
        {{ words }},
        [{{ words }}[i] || ' ' || {{ words }}[i + 1] for i in range(1, len({{ words }}))],
        [{{ words }}[i] || ' ' || {{ words }}[i + 1] || ' ' || {{ words }}[i + 2] for i in range(1, len({{ words }}) - 1)]
    ]))
{%- endmacro %}

{% macro postgres__ngrams(words) -%}
    array(
        select distinct gram from (
            select {{ words }}[i] as gram from generate_series(1, cardinality({{ words }})) as i
            union all
            select {{ words }}[i] || ' ' || {{ words }}[i + 1] from generate_series(1, cardinality({{ words }}) - 1) as i
            union all
            select {{ words }}[i] || ' ' || {{ words }}[i + 1] || ' ' || {{ words }}[i + 2]
            from generate_series(1, cardinality({{ words }}) - 2) as i
        ) as grams
    )
{%- endmacro %}

{#
    How many distinct content words of a brand reply (four letters or more, not a word every service reply uses)
    the customer's posts also hold (fct_replies.is_personalized).
#}
{% macro shared_content_words(reply_text, customer_text) -%}
    {{ return(adapter.dispatch('shared_content_words', 'socialcx')(reply_text, customer_text)) }}
{%- endmacro %}

{% macro default__shared_content_words(reply_text, customer_text) -%}
    len(list_intersect(
        list_distinct(list_filter({{ term_words(reply_text) }},
                                  lambda w: len(w) >= 4 and not list_contains({{ service_words() }}, w))),
        list_distinct({{ term_words(customer_text) }})
    ))
{%- endmacro %}

{% macro postgres__shared_content_words(reply_text, customer_text) -%}
    (select count(distinct word) from unnest({{ term_words(reply_text) }}) as reply_words(word)
     where length(word) >= 4 and not word = any({{ service_words() }})
       and word = any({{ term_words(customer_text) }}))
{%- endmacro %}

{# English stop words (function words and contractions; content words such as "still" or "again" are kept,
   since "still waiting" can be what a spike is about). #}
{% macro stop_words() -%}
    {{ text_list(["a", "about", "above", "after", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been",
     "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing",
     "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her",
     "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its",
     "itself", "just", "me", "more", "most", "my", "myself", "of", "off", "on", "once", "only", "or", "other",
     "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than",
     "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those",
     "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which",
     "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves",
     "im", "i'm", "i've", "i'd", "i'll", "it's", "that's", "there's", "you're", "we're", "they're", "let's",
     "he's", "she's", "what's", "also", "get", "got", "hey", "hi", "hello", "pls", "please", "u", "ur", "amp",
     "via", "us", "no", "not", "nor", "don't", "dont", "can't", "cant", "cannot", "won't", "isn't", "doesn't",
     "didn't", "really", "even", "now", "one", "ever"]) }}
{%- endmacro %}

{# Words every service reply uses: sharing them with the customer's post restates nothing. #}
{% macro service_words() -%}
    {{ text_list(["help", "sorry", "thanks", "thank", "hear", "please", "team", "look", "into", "details", "know", "happy",
     "glad", "experience", "issue", "problem", "today", "support", "message", "account", "there", "here", "what",
     "that", "this", "with", "your", "have", "just", "still", "again", "will", "would", "could", "can't", "don't"]) }}
{%- endmacro %}
