#!/usr/bin/env python3
"""Regenerates tests/golden/jinja_templates.json: dkv's own small Jinja templates, one or a few
per construct the interpreter supports (statements, whitespace control, expressions, filters,
tests, methods, errors), rendered by transformers' compiled chat template
(PreTrainedTokenizerBase._compile_jinja_template: jinja2's ImmutableSandboxedEnvironment with
trim_blocks and lstrip_blocks, HF's tojson and raise_exception), i.e. exactly as
apply_chat_template renders a model's chat_template.

Usage: .venv/bin/python tools/gen_jinja_golden.py   (the venv from tools/setup-python.sh)
Read by tests/test_tokenizer_jinja.cpp. A case whose rendering raises stores the exception
type and message; dkv must raise an InputError there.
"""
import json
import os
import platform

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "golden", "jinja_templates.json")

# The variables apply_chat_template passes (messages, tools, documents, add_generation_prompt,
# the special tokens map), with content that exercises whitespace and non-ASCII text.
CONTEXT = {
    "messages": [{"role": "system", "content": "Be brief."},
                 {"role": "user", "content": "  Hi \u00e9 \u2713\n"},
                 {"role": "assistant", "content": "Hello!"}],
    "tools": None,
    "documents": None,
    "add_generation_prompt": True,
    "bos_token": "<s>",
    "eos_token": "</s>",
}

CASES = [
    ('for_scope_per_iteration',
     '{% set count = 0 %}{% for i in [1,2,3] %}{{ count }}{% set count = count + 1 %}{{count}}{% endfor %}{{ count }}'),
    ('set_in_if_inside_for',
     '{% for i in [1,2] %}{% if i == 1 %}{% set x = 5 %}{% endif %}{{ x }}{% endfor %}'),
    ('set_in_if_persists',
     '{% if true %}{% set y = 3 %}{% endif %}{{ y }}'),
    ('list_repr',
     "{{ [1, 'a', none, true, 1.5, {'k': 'v'}] }}"),
    ('float_repr_and_int_division',
     '{{ 1e20 }} {{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1/3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 1e-5 }} {{ 123456789012345678.0 }}'),
    ('error_str_plus_int',
     "{{ 'a' + 1 }}"),
    ('error_attribute_of_undefined',
     '{{ x.y }}'),
    ('undefined_prints_empty',
     '{{ x }}|{{ x | length }}|{{ x is defined }}'),
    ('slicing',
     "{{ 'abc'[1:] }} {{ 'abc'[-1] }} {{ [1,2,3][::-1] }} {{ [1,2,3,4,5][1:-1:2] }} {{ 'héllo'[1:3] }} {{ [1,2,3][5:] }} {{ [1,2,3][-10:2] }}"),
    ('tuple_repr',
     "{{ ('a', 'b') }} {{ ('a',) }} {{ () }}"),
    ('string_repr_quotes',
     '{{ "it\'s" }} {{ ["it\'s", \'a"b\', \'x\\ny\'] }}'),
    ('dict_items_list',
     "{{ {'a':1}.items() | list }}"),
    ('default_filter',
     "{{ x | default('d') }} {{ '' | default('d', true) }} {{ none | d('z') }}"),
    ('type_tests',
     "{{ 'x' is string }} {{ 1 is number }} {{ true is number }} {{ [] is iterable }} {{ 'a' is iterable }} {{ {} is mapping }} {{ {} is sequence }}"),
    ('none_true_false',
     '{{ none }}{{ true }}{{ false }}'),
    ('for_else',
     '{% for m in [] %}x{% else %}empty{% endfor %}'),
    ('repetition',
     "{{ 3 * 'ab' }} {{ [1] * 2 }}"),
    ('sort_unique_case_insensitive',
     "{{ ['b','A','a'] | sort }} {{ ['b','A','a'] | unique | list }}"),
    ('title_capitalize',
     "{{ 'Hello world-foo(bar' | title }} {{ 'hELLO wORLD' | capitalize }}"),
    ('indent_filter',
     "{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}|{{ 'a\n\nb' | indent(width='> ', blank=true) }}"),
    ('tojson_hf',
     '{{ {\'a\': \'é\', \'b\': [1, 2.5, none, true]} | tojson }}|{{ {\'a\': [1], \'b\': {}} | tojson(indent=2) }}|{{ \'x"\\\\\x01\' | tojson }}|{{ {\'b\': 1, \'a\': 2} | tojson(sort_keys=true) }}|{{ [\'é\'] | tojson(ensure_ascii=true) }}'),
    ('comparisons_and_chains',
     "{{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ 'a' == 1 }} {{ x == none }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ [1,2] == [1,2] }}"),
    ('string_methods_strip_split',
     "{{ '  ab  '.strip() }}|{{ 'xxabxx'.strip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ '  x'.lstrip() }}|{{ 'x  '.rstrip() }}"),
    ('undefined_tests',
     '{{ x is iterable }} {{ x is sequence }} {{ x is mapping }} {{ x is none }} {{ x is string }}'),
    ('undefined_filters',
     "{{ x | first }}|{{ [] | first }}|{{ x | join(',') }}|{{ x | list }}|{{ x | trim }}|{{ x ~ 'a' }}"),
    ('in_operator',
     "{{ 'a' in x }} {{ 'a' in 'cat' }} {{ 'b' not in ['a'] }} {{ 'k' in {'k': 1} }}"),
    ('missing_attributes_undefined',
     "{{ none.foo }}|{{ 'abc'.foo }}|{{ [1][5] }}|{{ {'a':1}['b'] }}"),
    ('namespace_set',
     '{% set ns = namespace(a=1) %}{% set ns.a = 2 %}{{ ns.a }}{{ ns }}'),
    ('macro_call',
     "{% macro f(a, b='x') %}[{{a}}{{b}}]{% endmacro %}{{ f(1) }}{{ f(1, b=2) }}{{ f(b=3, a=4) }}"),
    ('range_global',
     '{{ range(3) | list }} {{ range(1, 7, 2) | list }}{% for i in range(2) %}{{ i }}{% endfor %}'),
    ('map_filter_name',
     "{{ [1,2] | map('string') | list }} {{ [1,2] | map('string') | join('+') }}"),
    ('error_attribute_of_undefined_in_test',
     '{{ x.y is defined }}'),
    ('arithmetic',
     "{{ true + 1 }} {{ 5 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 'a' ~ 1.50 }} {{ -3 }} {{ - 2.5 }} {{ 10 % 3 }} {{ 7.5 // 2 }}"),
    ('lstrip_trim_blocks',
     'a  \n  {% if true %}\n  x\n  {% endif %}\n  b\n'),
    ('whitespace_control',
     "  {{- 'v' -}}  \n{#- c -#}\n  {# c #}\n  {%+ if true +%}\nq\n{% endif %}"),
    ('raw_block',
     '{% raw %}{{ x }}{% endraw %}\n{%- raw -%}  y  {%- endraw -%}  z'),
    ('replace_find_title',
     "{{ 'ab' | replace('', '-') }} {{ 'aaa'.replace('a','b',2) }} {{ 'abc'.find('c') }} {{ 'Hello World'.title() }} {{ 'aXa' | replace('a', 'b') }}"),
    ('string_escapes',
     "{{ '\\u00e9\\x41\\n\\q' }}"),
    ('unicode_case',
     "{{ 'ß'.upper() }} {{ 'ΑΣ'.lower() }} {{ 'éa'.title() }} {{ 'ÉCOLE' | lower }}"),
    ('unicode_repr_escapes',
     "{{ '\xa0x\t' }}{{ ['\xa0', '\x01', '\u200b', 'é'] }}"),
    ('error_order_int_str',
     "{{ 1 < 'a' }}"),
    ('sort_map_attribute',
     "{{ [3,1,2] | sort(reverse=true) }} {{ [{'a':2},{'a':1}] | sort(attribute='a') }} {{ [{'a':2},{'b':1}] | map(attribute='a') | list }} {{ [{'a':2},{'b':1}] | map(attribute='a', default=0) | list }}"),
    ('dictsort_items',
     "{{ {'b':1,'a':2} | dictsort }} {{ {'b':1,'a':2} | items | list }} {{ {'b':1,'a':2} | dictsort(by='value', reverse=true) }}"),
    ('select_reject_attr',
     "{{ [1,2,3] | select('odd') | list }} {{ [1,2,3] | reject('odd') | list }} {{ [{'r':'u'},{'r':'a'}] | selectattr('r', 'equalto', 'u') | list }} {{ [{'r':'u'},{'x':'a'}] | selectattr('r') | list }} {{ [{'r':'u'},{'r':'a'}] | rejectattr('r', 'eq', 'u') | list }}"),
    ('int_float_filters',
     "{{ 42.7 | int }} {{ '42.7' | int }} {{ 'x' | int }} {{ ' 12 ' | int }} {{ '1_0' | int }} {{ 3 | float }} {{ 'a' | float }} {{ '2.5' | float }} {{ true | int }}"),
    ('round_filter',
     "{{ 0.1 | round }} {{ 2.5 | round }} {{ 3.14159 | round(2) }} {{ -0.0 }} {{ 1e16 }} {{ 1e15 }} {{ 2.675 | round(2) }} {{ 1.5 | round(0, 'floor') }}"),
    ('loop_variables',
     "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.cycle('a','b') }};{% endfor %}"),
    ('for_if_filter',
     "{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{{ loop.length }}{% endfor %}"),
    ('for_unpack_items',
     "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }},{% endfor %}{% for k, v in messages[0] | items %}{{ k }}:{{ v }};{% endfor %}"),
    ('loop_previtem_nextitem',
     "{% for m in messages %}{{ loop.previtem.role if not loop.first }}>{{ loop.nextitem.role if not loop.last else 'END' }} {% endfor %}"),
    ('block_set',
     '{% set x %}  block {{ 1 + 1 }} {% endset %}[{{ x }}]{% set y | trim | upper %}  q  {% endset %}[{{ y }}]'),
    ('filter_block',
     "{% filter upper %}abc{{ 'd' }}{% endfilter %}"),
    ('generation_tag',
     '{% generation %}gen{{ 1 }}{% endgeneration %}'),
    ('error_raise_exception',
     "{{ raise_exception('bad role: ' + 'x') }}"),
    ('slice_messages',
     "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% else %}{% set loop_messages = messages %}{% endif %}{{ loop_messages | length }}"),
    ('selectattr_map_join',
     "{{ messages | selectattr('role', 'equalto', 'user') | list | length }} {{ messages | map(attribute='role') | join(', ') }} {{ messages[-1].content }} {{ messages[1]['content'] | trim }}"),
    ('inline_if',
     "{{ 'x' if false }}|{{ 'a' if 1 else 'b' }}|{{ 1 if none else 2 if true else 3 }}"),
    ('adjacent_strings',
     '{{ \'a\' \'b\' }} {{ "q" ~ \'r\' }}'),
    ('dict_methods',
     "{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b') }} {{ {'a': 1}.get('b', 5) }} {{ {'a': 1}.keys() | list }} {{ {'a': 1}.values() | list }}"),
    ('startswith_endswith_case',
     "{{ 'abc'.startswith('a') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'abc'.upper() }} {{ 'ABC'.lower() }} {{ 'hello world'.capitalize() }}"),
    ('message_repr',
     '{{ messages[0] }} {{ messages[0].items() | list }}'),
    ('length_reverse_last_first',
     "{{ [1, [2, 3]] | length }} {{ 'héllo' | length }} {{ {'a':1} | count }} {{ 'héllo' | reverse }} {{ [1,2] | reverse | list }} {{ [1,2,3] | last }} {{ 'abc' | first }}"),
    ('max_min_sum',
     "{{ [3,1,2] | max }} {{ [3,1,2] | min }} {{ [1,2,3] | sum }} {{ [1.5, 2] | sum }} {{ ['B','a'] | max }}"),
    ('escape_safe_string',
     '{{ \'<a & "b">\' | e }} {{ \'<x>\' | safe }} {{ \'x\' | string }} {{ 1 | string }} {{ [1] | string }}'),
    ('more_tests',
     "{{ 4 is divisibleby 2 }} {{ 3 is odd }} {{ 3 is even }} {{ none is none }} {{ x is undefined }} {{ 1 is not string }} {{ true is boolean }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is true }} {{ false is false }} {{ 2 is eq 2 }} {{ 'a' is in 'abc' }} {{ 3 is gt 2 }}"),
    ('error_unknown_filter',
     "{{ 'x' | bogus }}"),
    ('error_unknown_tag',
     '{% bogus %}'),
    ('error_mismatched_end_tag',
     '{% if x %}\n{% endfor %}'),
    ('error_unterminated_string',
     "{{ 'unterminated }}"),
    ('error_attribute_chain_of_undefined',
     '{{ x.y.z }}'),
    ('error_call_undefined',
     '{{ x() }}'),
    ('integer_subscripts',
     '{{ [1,2,3][1] }}{{ [1,2,3].1 }}'),
    ('str_format',
     "{{ '{} and {}'.format('a', 1) }} {{ '{0}{name}'.format('x', name='y') }}"),
    ('tuple_set_unpack',
     '{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = 1, 2 %}{{ t }}'),
    ('parens_not_and_or',
     "{{ (1, 2)[0] }} {{ (1 + 2) * 3 }} {{ not true }} {{ not 1 == 2 }} {{ true and 'x' }} {{ 0 or 'y' }} {{ '' or [] }}"),
    ('nested_loops',
     '{% for a in [[1,2],[3,4]] %}{% for b in a %}{{ loop.index }}{{ b }}{% endfor %}{{ loop.index }};{% endfor %}'),
    ('dash_whitespace_template',
     "{%- for message in messages %}\n  {%- if message.role == 'user' %}\n    {{- '[U]' + message.content }}\n  {%- else %}\n    {{- '[O]' + message.content }}\n  {%- endif %}\n{%- endfor %}\n"),
    ('trim_lstrip_template',
     "{% for message in messages %}\n{% if message.role == 'user' %}\n  U: {{ message.content }}\n{% endif %}\n{% endfor %}\n"),
    ('macro_whitespace',
     '{% macro render(m) -%}\n  <{{ m.role }}>{{ m.content | trim }}\n{%- endmacro %}\n{% for m in messages %}{{ render(m) }}\n{% endfor %}'),
    ('error_index_past_end',
     '{{ messages[5].role }}'),
    ('join_filter',
     "{{ [1,2,3] | join }} {{ ['a', 'b'] | join(', ') }} {{ [{'n': 'a'}, {'n': 'b'}] | join('-', attribute='n') }}"),
    ('indent_crlf_case_trim',
     "{{ 'a\\nb\\r\\nc' | indent(1) }} {{ 'AbC' | lower }} {{ 'x y' | upper }} {{ '  t  ' | trim }} {{ 'xxtxx' | trim('x') }}"),
    ('hf_variables',
     '{{ bos_token ~ messages[0].content ~ eos_token }}{% if add_generation_prompt %}GEN{% endif %}{{ tools is none }}{{ documents }}'),
    ('big_ints_floats',
     '{{ 10000000000 * 10 }} {{ 0.5 }} {{ 100.0 }} {{ 1.25e-7 }} {{ 3.0 * 2 }}'),
    ('tojson_messages',
     '{{ messages | tojson }}'),
    ('tojson_indent4',
     '{{ messages[0] | tojson(indent=4) }}'),
    ('loop_index_parity',
     '{% for m in messages %}{% if loop.index0 % 2 == 0 %}E{% else %}O{% endif %}{% endfor %}'),
    ('system_message_set_trim',
     "{%- if messages[0]['role'] == 'system' -%}\n    {%- set system_message = messages[0]['content'] | trim + '\\n\\n' -%}\n{%- else -%}\n    {%- set system_message = '' -%}\n{%- endif -%}\n[{{ system_message }}]"),
    ('zero_and_division_error',
     "{{ 'ab' * 0 }}|{{ [] * 3 }}|{{ 1 // 1 }}|{{ 1 / 0 }}"),
    ('comments',
     '{# a {{ comment }} #}x{#- y -#}  z'),
    ('nested_dict_literals',
     "{{ { 'a': {'b': 1} }['a']['b'] }}{{ {'a': 1}}}"),
    ('list_filter_on_str_dict',
     "{{ 'abc' | list }} {{ {'a': 1, 'b': 2} | list }} {{ 'a-b' .split('-') }}"),
    ('unicode_methods',
     "{{ 'λx'.upper() }} {{ 'x y z'.title() }} {{ '123'.isdigit() }} {{ ' '.isspace() }}"),
    ('newline_normalisation',
     'line1\r\nline2\rline3\n{% if true %}\r\nX\r\n{% endif %}'),
    ('percent_format',
     "{{ '%s and %d' | format('a', 3) }} {{ '%-5s|' % 'ab' }} {{ '%.2f' % 3.14159 }} {{ '%5.1f%%' % 12.345 }} {{ '%r' % 'x' }} {{ '%s-%s' % ('a', 1) }}"),
    ('with_statement',
     "{% with a = 1, b = 'x' %}{{ a }}{{ b }}{% endwith %}[{{ a }}]"),
    ('unknown_filter_in_untaken_branch',
     "{% if tools %}{{ tools | fromjson }}{% endif %}ok"),
    ('error_unknown_filter_in_taken_branch',
     "{% if messages %}{{ messages | fromjson }}{% endif %}ok"),
    ('more_string_methods',
     "{{ 'a-b-c'.split('-', 1) }} {{ 'aXbX'.count('X') }} {{ ', '.join(['a', 'b']) }} {{ 'ab\\ncd\\r\\nef'.splitlines() }} {{ 'x'.join('abc') }}"),
    ('error_too_few_format_args',
     "{{ '%s %s' % ('a',) }}"),
    ('int_dict_keys',
     "{% set b = {0: 'zero', 512: 'x', none: 'n'} %}{{ b }} {{ b[512] }} {{ b[0] }} {{ b.get(512) }} {{ 512 in b }} "
     "{{ '512' in b }} {{ b | tojson }} {{ b.items() | list }}{% for k in b if k is number %}{{ k + 1 }},{% endfor %}"
     "{{ {2: 'b', 1: 'a'} | dictsort }} {{ b[True] }} {{ {1: 'one'}[1.0] }}"),
    ('error_unhashable_key',
     "{{ {[1]: 2} }}"),
    ('unicode_whitespace_control',
     "a\u3000 {%- if true %}x{% endif -%}\u00a0\u2003b {{- ' c' }}\u2028 {#- z #}d\u00a0\n  {% if true %}e{% endif %}"),
]


def main():
    import jinja2
    import transformers
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

    names = [n for n, _ in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    out = []
    for name, template in CASES:
        case = {"name": name, "template": template}
        try:
            # transformers' own compile (an lru-cached method; self is unused)
            compiled = PreTrainedTokenizerBase._compile_jinja_template(None, template)
            case["text"] = compiled.render(**CONTEXT)
        except Exception as e:  # noqa: BLE001 - the error is the expected outcome
            case["error"] = f"{type(e).__name__}: {e}"
        out.append(case)
    header = {"generator": "tools/gen_jinja_golden.py", "regenerate": ".venv/bin/python tools/gen_jinja_golden.py",
              "transformers": transformers.__version__, "jinja2": jinja2.__version__,
              "python": platform.python_version()}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"header": header, "context": CONTEXT, "cases": out}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{OUT}: {len(out)} cases ({sum('error' in c for c in out)} raise)")


if __name__ == "__main__":
    main()
