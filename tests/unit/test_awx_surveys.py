# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX job template surveys (extensions/awx/surveys/) are valid and agree with the collection.

AWX has no boolean question type: flags are multiple choice "false"/"true". Secrets are password questions, and the
manager's URL and token are never questions (a credential injects them), nor are registry user names and passwords
(the registry credential injects them; more registries come from a vault file). The deploy survey offers what the _common
role's argument spec accepts, with its defaults; verify asks the content questions exactly like preheat; every
question is documented in docs/awx.md; every survey belongs to a job template of extensions/awx/setup.yml, and every job template has a project
playbook in examples/awx-project that imports an existing playbook of the collection.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

import pytest
import yaml


REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
AWX_DIR = os.path.join(REPO_ROOT, 'extensions', 'awx')
SURVEY_DIR = os.path.join(AWX_DIR, 'surveys')
PROJECT_DIR = os.path.join(REPO_ROOT, 'examples', 'awx-project')
DOCS = os.path.join(REPO_ROOT, 'docs', 'awx.md')
COMMON_SPEC = os.path.join(REPO_ROOT, 'roles', '_common', 'meta', 'argument_specs.yml')

SURVEYS = sorted(name[:-4] for name in os.listdir(SURVEY_DIR) if name.endswith('.yml'))

# awx/main/models/mixins.py SurveyJobTemplateMixin: the question types AWX knows.
QUESTION_TYPES = {'text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect'}
FLAG_CHOICES = ['false', 'true']
# Answers that only a credential may give.
FORBIDDEN = re.compile(r'token|manager_url|^DRAGONFLY_')
# Registry secrets: a survey answer is an extra variable that whoever launches must know and that travels with the job.
REGISTRY_SECRET = re.compile(r'registry.*(user|password|credential)|(user|password|credential).*registry')


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def survey(name):
    return load(os.path.join(SURVEY_DIR, name + '.yml'))


def questions(name):
    return dict((question['variable'], question) for question in survey(name)['spec'])


def test_the_job_template_surveys_exist():
    assert {'deploy', 'preheat', 'verify'} <= set(SURVEYS)


@pytest.mark.parametrize('name', SURVEYS)
def test_survey_is_well_formed(name):
    spec = survey(name)
    assert spec.get('name') and 'description' in spec
    variables = [question['variable'] for question in spec['spec']]
    assert len(variables) == len(set(variables)), 'variables must be unique'
    for question in spec['spec']:
        label = f"{name}: {question.get('variable')}"
        assert question.get('question_name'), label
        assert re.match(r'^[a-z][a-z0-9_]*$', question['variable']), label
        assert question['type'] in QUESTION_TYPES, label
        assert isinstance(question.get('required'), bool), label
        if question['type'] in ('multiplechoice', 'multiselect'):
            assert all(isinstance(choice, str) for choice in question['choices']), label
            assert question.get('default') in question['choices'], label
        if question['type'] == 'integer':
            assert isinstance(question['default'], int), label
            assert question.get('min', question['default']) <= question['default'] <= question.get('max', question['default'])
        if not question['required'] and question['type'] in ('text', 'textarea', 'password'):
            # An unanswered optional question arrives as "": the playbooks read that as unset.
            assert question.get('default', '') == '', label


@pytest.mark.parametrize('name', SURVEYS)
def test_flags_are_false_true_choices(name):
    for variable, question in questions(name).items():
        if re.search(r'_(force|insecure_registry|allow_[a-z_]+|purge)$', variable):
            assert question['type'] == 'multiplechoice', variable
            assert question['choices'] == FLAG_CHOICES, variable
            assert question['default'] == 'false', variable


@pytest.mark.parametrize('name', SURVEYS)
def test_secrets_are_password_questions_and_never_the_token(name):
    for variable, question in questions(name).items():
        assert not FORBIDDEN.search(variable), f'{variable}: the manager URL and token come from the credential'
        if variable.endswith('password'):
            assert question['type'] == 'password', variable


@pytest.mark.parametrize('name', SURVEYS)
def test_no_survey_asks_for_registry_credentials(name):
    for variable, question in questions(name).items():
        assert not REGISTRY_SECRET.search(variable), f'{variable}: registry credentials come from the credential'
        if question['type'] == 'password':
            assert 'registry' not in variable, variable


def test_deploy_survey_matches_the_role_argument_spec():
    options = load(COMMON_SPEC)['argument_specs']['main']['options']
    for variable, question in questions('deploy').items():
        assert variable in options, variable
        option = options[variable]
        assert str(question['default']) == str(option['default']), variable
        if option.get('choices'):
            assert question['type'] == 'multiplechoice' and question['choices'] == [str(c) for c in option['choices']]


def test_verify_asks_the_content_questions_like_preheat():
    preheat, verify = questions('preheat'), questions('verify')
    # verify only reads: it neither forces a preheat nor waits for one.
    assert set(preheat) - set(verify) == {'dragonfly_preheat_force', 'dragonfly_preheat_timeout'}
    assert set(verify) <= set(preheat)
    for variable, question in verify.items():
        for key in ('type', 'choices', 'default', 'required', 'min', 'max'):
            assert question.get(key) == preheat[variable].get(key), (variable, key)


def test_every_question_is_documented():
    with open(DOCS) as f:
        docs = f.read()
    for name in SURVEYS:
        for variable in questions(name):
            assert f'`{variable}`' in docs, f'docs/awx.md does not describe {variable} ({name} survey)'


def test_job_templates_have_survey_and_project_playbook():
    plays = load(os.path.join(AWX_DIR, 'setup.yml'))
    templates = plays[0]['vars']['dragonfly_awx_job_templates']
    assert {template['survey'] for template in templates if 'survey' in template} == set(SURVEYS)
    for template in templates:
        wrapper = load(os.path.join(PROJECT_DIR, template['playbook']))
        imported = [play['ansible.builtin.import_playbook'] for play in wrapper]
        assert len(imported) == 1 and imported[0].startswith('p2p.dragonfly.'), template
        playbook = imported[0][len('p2p.dragonfly.'):]
        assert os.path.isfile(os.path.join(REPO_ROOT, 'playbooks', playbook + '.yml')), imported[0]
        # Only the templates whose modules talk to the manager's API get its credential; the others run on the
        # manager host with the secrets it keeps.
        assert template['manager_credential'] == (template['playbook'] in ('preheat.yml', 'verify.yml', 'evict.yml')), template
