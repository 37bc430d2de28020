{#
    Terms of a post for "what is this spike about" (mart_spike_drivers). term_words: the lower-cased words of
    the redacted text, handles, links and anything with a digit masked (they are never terms), stop words out.
    ngrams: every 1-, 2- and 3-gram of those words, each once per post.
#}
{% macro term_words(text) -%}
    list_filter(
        regexp_extract_all(
            lower(regexp_replace({{ text }}, '@[^[:space:]]+|https?://[^[:space:]]+|[^[:space:]]*[0-9][^[:space:]]*', ' ', 'g')),
            '[[:alpha:]]+(?:''[[:alpha:]]+)?'
        ),
        lambda w: len(w) > 1 and not list_contains({{ stop_words() }}, w)
    )
{%- endmacro %}

{% macro ngrams(words) -%}
    list_distinct(flatten([
        {{ words }},
        [{{ words }}[i] || ' ' || {{ words }}[i + 1] for i in range(1, len({{ words }}))],
        [{{ words }}[i] || ' ' || {{ words }}[i + 1] || ' ' || {{ words }}[i + 2] for i in range(1, len({{ words }}) - 1)]
    ]))
{%- endmacro %}

{# English stop words (function words and contractions; content words such as "still" or "again" are kept,
   since "still waiting" can be what a spike is about). #}
{% macro stop_words() -%}
    ['a', 'about', 'above', 'after', 'all', 'am', 'an', 'and', 'any', 'are', 'as', 'at', 'be', 'because',
     'been', 'before', 'being', 'below', 'between', 'both', 'but', 'by', 'can', 'could', 'did', 'do', 'does',
     'doing', 'down', 'during', 'each', 'few', 'for', 'from', 'further', 'had', 'has', 'have', 'having', 'he',
     'her', 'here', 'hers', 'herself', 'him', 'himself', 'his', 'how', 'i', 'if', 'in', 'into', 'is', 'it',
     'its', 'itself', 'just', 'me', 'more', 'most', 'my', 'myself', 'of', 'off', 'on', 'once', 'only', 'or',
     'other', 'our', 'ours', 'ourselves', 'out', 'over', 'own', 'same', 'she', 'should', 'so', 'some', 'such',
     'than', 'that', 'the', 'their', 'theirs', 'them', 'themselves', 'then', 'there', 'these', 'they', 'this',
     'those', 'through', 'to', 'too', 'under', 'until', 'up', 'very', 'was', 'we', 'were', 'what', 'when',
     'where', 'which', 'while', 'who', 'whom', 'why', 'will', 'with', 'would', 'you', 'your', 'yours',
     'yourself', 'yourselves', 'im', 'i''m', 'i''ve', 'i''d', 'i''ll', 'it''s', 'that''s', 'there''s', 'you''re',
     'we''re', 'they''re', 'let''s', 'he''s', 'she''s', 'what''s', 'also', 'get', 'got', 'hey', 'hi', 'hello',
     'pls', 'please', 'u', 'ur', 'amp', 'via', 'us', 'no', 'not', 'nor', 'don''t', 'dont', 'can''t', 'cant',
     'cannot', 'won''t', 'isn''t', 'doesn''t', 'didn''t', 'really', 'even', 'now', 'one', 'ever']
{%- endmacro %}

{# Words every service reply uses: sharing them with the customer's post restates nothing. #}
{% macro service_words() -%}
    ['help', 'sorry', 'thanks', 'thank', 'hear', 'please', 'team', 'look', 'into', 'details', 'know', 'happy',
     'glad', 'experience', 'issue', 'problem', 'today', 'support', 'message', 'account', 'there', 'here', 'what',
     'that', 'this', 'with', 'your', 'have', 'just', 'still', 'again', 'will', 'would', 'could', 'can''t', 'don''t']
{%- endmacro %}
