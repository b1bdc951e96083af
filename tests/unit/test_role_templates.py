# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the roles render for the trust and proxy settings of registries and origins.

The manager's manager.yaml and compose.yaml and a seed peer's or peer's dfdaemon.yaml and compose.yaml are rendered
with Ansible's own templating from the roles' defaults and vars (the shared settings of _common, then the role's),
as the roles render them, with and without dragonfly_registry_ca_bundle, dragonfly_http_proxy, dragonfly_https_proxy,
dragonfly_no_proxy and the roles' own variables. Unset, every file is what earlier releases rendered (no key, no
mount, no environment, the same config-hash label), so that an upgrade restarts nothing. The entry point `origins`
(roles/_common/tasks/origins.yml) is run by ansible-playbook against bad values: each refusal names the variable.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os
import subprocess
import sys
import tempfile

import pytest
import yaml


REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ROLES_DIR = os.path.join(REPO_ROOT, 'roles')

CA = '''-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUexample0000000000000000000000wCgYIKoZIzj0EAwIw
-----END CERTIFICATE-----'''
OTHER_CA = CA.replace('example0', 'example1')
CA_PATH = '/etc/dragonfly/ca-bundle.pem'
CA_MOUNT = './config/ca-bundle.pem:%s:ro' % CA_PATH
PROXY = 'http://proxy.example.com:3128'
NO_PROXY = 'registry.internal,.example.com,10.0.0.0/8'

# Facts and results of earlier tasks that the templates read.
FACTS = {
    'inventory_hostname': 'host1',
    'inventory_hostname_short': 'host1',
    'groups': {'dragonfly_scheduler': ['host1']},
    'dragonfly_advertise_ip': '10.0.0.5',
    # The preflight's fact (roles/_common/tasks/preflight.yml), for an engine without start_interval.
    '_dragonfly_healthcheck': {'interval': '10s', 'retries': 3, 'start_period': '300s'},
}
MANAGER_RESULTS = {
    '_dragonfly_manager_image_ref': 'docker.io/dragonflyoss/manager:v2.5.1',
    '_dragonfly_manager_jwt_key': 'jwt',
    '_dragonfly_manager_database_password': 'db',
    '_dragonfly_manager_database_address': 'mariadb',
    '_dragonfly_manager_database_internal_port': 3306,
    '_dragonfly_manager_redis_address': 'redis:6379',
    '_dragonfly_redis_password': 'redis',
    '_dragonfly_manager_proxy_config': 'events {}',
    '_dragonfly_manager_tls': {'certificate': 'cert'},
}


def ansible_templating():
    """Ansible's templating, with its plugins (combine, to_nice_yaml, hash, the template lookup) loaded. Only in a
    process of its own (see rendered): the collection loader cannot be set up once pytest imported the collection."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.template import Templar, trust_as_template
    init_plugin_loader()
    return DataLoader(), Templar, trust_as_template


def role_file(role, *parts):
    return os.path.join(ROLES_DIR, role, *parts)


def trusted(value, trust):
    """A role's files are trusted: their templated values are rendered when read, as in a play."""
    if isinstance(value, dict):
        return dict((key, trusted(item, trust)) for key, item in value.items())
    if isinstance(value, list):
        return [trusted(item, trust) for item in value]
    return trust(value) if isinstance(value, str) else value


def role_variables(ansible, role):
    """The shared settings and tables of _common, then the role's defaults and vars, as Ansible loads them."""
    loader, _templar_class, trust = ansible
    variables = {}
    for path in (role_file('_common', 'defaults', 'main.yml'), role_file('_common', 'vars', 'main.yml'),
                 role_file(role, 'defaults', 'main.yml'), role_file(role, 'vars', 'main.yml')):
        if os.path.exists(path):
            variables.update(trusted(loader.load_from_file(path) or {}, trust))
    return variables


def renderer(ansible, role, settings):
    """A function rendering an expression or a template of the role with the settings given in the inventory."""
    loader, templar_class, trust = ansible
    variables = role_variables(ansible, role)
    variables.update(FACTS)
    variables.update(settings)

    def render(expression=None, template=None, **extra):
        templar = templar_class(loader=loader, variables=dict(variables, **extra))
        if template:
            expression = "{{ lookup('ansible.builtin.template', %r) }}" % template
        return templar.template(trust(expression))
    return render


def render_manager(ansible, settings):
    """manager.yaml and compose.yaml as the manager role renders them."""
    render = renderer(ansible, 'manager', dict(MANAGER_RESULTS, **settings))
    config = render(template=role_file('manager', 'templates', 'manager.yaml.j2'))
    compose = render(template=role_file('manager', 'templates', 'compose.yaml.j2'), _dragonfly_manager_config=config)
    return str(config), str(compose)


def render_client(ansible, role, settings):
    """dfdaemon.yaml and compose.yaml as the seed peer or peer role renders them."""
    render = renderer(ansible, role, settings)
    client = render('{{ _dragonfly_%s_client }}' % role)
    results = {'_dragonfly_client': client, '_dragonfly_client_manager': '10.0.0.1:65003',
               '_dragonfly_client_image_ref': 'docker.io/dragonflyoss/client:v1.5.10'}
    config = render(template=role_file('_common', 'templates', 'dfdaemon.yaml.j2'), **results)
    compose = render(template=role_file('_common', 'templates', 'client-compose.yaml.j2'),
                     _dragonfly_client_config=config, **results)
    return str(config), str(compose)


def render_all(cases):
    """{case: [config, compose]} for [[case, role, settings], ...]; run in the child process."""
    ansible = ansible_templating()
    return dict((case, render_manager(ansible, settings) if role == 'manager' else render_client(ansible, role, settings))
                for case, role, settings in cases)


RENDERS = []


def render_case(role, **settings):
    """Register a rendering for the child process; returns its key."""
    key = '%d' % len(RENDERS)
    RENDERS.append([key, role, settings])
    return key


@pytest.fixture(scope='module')
def rendered():
    """Every registered rendering, in one Python process of its own (without the collection on its path)."""
    env = dict((k, v) for k, v in os.environ.items() if k != 'PYTHONPATH')
    run = subprocess.run([sys.executable, os.path.abspath(__file__)], input=json.dumps(RENDERS), capture_output=True,
                         text=True, env=env, check=False, cwd=REPO_ROOT)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def manager_files(rendered, key):
    """(manager.yaml parsed, compose.yaml's manager service, the config text)."""
    config, compose = rendered[key]
    return yaml.safe_load(config), yaml.safe_load(compose)['services']['manager'], config


def client_files(rendered, key):
    """(dfdaemon.yaml parsed, compose.yaml's dfdaemon service, the config text)."""
    config, compose = rendered[key]
    return yaml.safe_load(config), yaml.safe_load(compose)['services']['dfdaemon'], config


def config_hash(service):
    return service['labels']['org.p2p-dragonfly.config-hash']


def sha256(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def proxy_environment(http=PROXY, https=PROXY, no_proxy=NO_PROXY):
    env = {}
    for name, value in (('HTTP_PROXY', http), ('HTTPS_PROXY', https), ('NO_PROXY', no_proxy)):
        if value:
            env[name] = env[name.lower()] = value
    return env


# ------------------------------------------------------------------------------------------------------- manager

MANAGER = {
    'unset': render_case('manager'),
    'shared_ca': render_case('manager', dragonfly_registry_ca_bundle=CA + '\n'),
    'own_ca_empty': render_case('manager', dragonfly_registry_ca_bundle=CA, dragonfly_manager_preheat_ca_bundle=''),
    'ca': render_case('manager', dragonfly_manager_preheat_ca_bundle=CA),
    'other_ca': render_case('manager', dragonfly_manager_preheat_ca_bundle=OTHER_CA),
    'insecure': render_case('manager', dragonfly_manager_preheat_insecure_skip_verify=True),
    'insecure_ca': render_case('manager', dragonfly_manager_preheat_insecure_skip_verify=True,
                               dragonfly_manager_preheat_ca_bundle=CA),
    'proxies': render_case('manager', dragonfly_http_proxy=PROXY, dragonfly_https_proxy=PROXY, dragonfly_no_proxy=NO_PROXY),
    'own_proxies': render_case('manager', dragonfly_http_proxy=PROXY, dragonfly_manager_http_proxy='',
                               dragonfly_manager_https_proxy='https://other.example.com:3129'),
}


STARTING = {'interval': '10s', 'retries': 3, 'start_period': '300s', 'start_interval': '1s'}
HEALTH = {
    'manager': render_case('manager'),
    'manager_engine_25': render_case('manager', _dragonfly_healthcheck=STARTING),
    'seed_peer': render_case('seed_peer'),
    'seed_peer_engine_25': render_case('seed_peer', _dragonfly_healthcheck=STARTING),
}


@pytest.mark.parametrize('role', ['manager', 'seed_peer'])
def test_every_health_check_takes_the_preflights_timing(rendered, role):
    """Each service's health check keeps its own command and timeout and takes interval, retries, start period and,
    where the preflight found an engine with it, start_interval from the preflight's fact."""
    for case, timing in ((role, FACTS['_dragonfly_healthcheck']), (role + '_engine_25', STARTING)):
        services = yaml.safe_load(rendered[HEALTH[case]][1])['services']
        assert services, case
        for name, service in services.items():
            check = dict(service['healthcheck'])
            assert check.pop('test') and check.pop('timeout'), (case, name, service['healthcheck'])
            assert check == timing, (case, name, service['healthcheck'])


def test_manager_unset_renders_what_earlier_releases_did(rendered):
    config, service, text = manager_files(rendered, MANAGER['unset'])
    assert config['job'] == {'preheat': {'registryTimeout': '1m'}}
    assert 'environment' not in service
    assert CA_MOUNT not in service['volumes']
    # The label of earlier releases: the configuration's hash alone, so an upgrade restarts nothing.
    assert config_hash(service) == sha256(text)


def test_manager_ca_bundle_shared_setting(rendered):
    config, service, text = manager_files(rendered, MANAGER['shared_ca'])
    assert config['job']['preheat'] == {'registryTimeout': '1m', 'tls': {'caCert': CA_PATH}}
    assert CA_MOUNT in service['volumes']
    assert config_hash(service) == sha256(text + CA)


def test_manager_ca_bundle_of_its_own_wins(rendered):
    config, service, _text = manager_files(rendered, MANAGER['own_ca_empty'])
    assert 'tls' not in config['job']['preheat']
    assert CA_MOUNT not in service['volumes']


def test_manager_ca_bundle_change_restarts_the_manager(rendered):
    """Only the file changes, not manager.yaml: the label must, or compose would keep the old container."""
    first = manager_files(rendered, MANAGER['ca'])
    second = manager_files(rendered, MANAGER['other_ca'])
    assert first[2] == second[2]
    assert config_hash(first[1]) != config_hash(second[1])


def test_manager_insecure_skip_verify(rendered):
    assert manager_files(rendered, MANAGER['insecure'])[0]['job']['preheat']['tls'] == {'insecureSkipVerify': True}
    assert manager_files(rendered, MANAGER['insecure_ca'])[0]['job']['preheat']['tls'] == {
        'caCert': CA_PATH, 'insecureSkipVerify': True}


def test_manager_proxies_shared_settings(rendered):
    _config, service, text = manager_files(rendered, MANAGER['proxies'])
    assert service['environment'] == proxy_environment()
    assert config_hash(service) == sha256(text)


def test_manager_proxies_of_its_own_win(rendered):
    service = manager_files(rendered, MANAGER['own_proxies'])[1]
    assert service['environment'] == proxy_environment(http='', https='https://other.example.com:3129', no_proxy='')


# ---------------------------------------------------------------------------------------------- seed peer, peer

CLIENT_ROLES = ['seed_peer', 'peer']
CLIENT = dict((role, {
    'unset': render_case(role),
    'shared_ca': render_case(role, dragonfly_registry_ca_bundle=CA),
    'own_ca': render_case(role, **{'dragonfly_%s_registry_ca_bundle' % role: CA}),
    'own_ca_empty': render_case(role, **{'dragonfly_registry_ca_bundle': CA, 'dragonfly_%s_registry_ca_bundle' % role: ''}),
    'other_ca': render_case(role, dragonfly_registry_ca_bundle=OTHER_CA),
    'proxies': render_case(role, dragonfly_http_proxy=PROXY, dragonfly_https_proxy=PROXY, dragonfly_no_proxy=NO_PROXY),
    'own_proxy_empty': render_case(role, **{'dragonfly_https_proxy': PROXY, 'dragonfly_%s_https_proxy' % role: ''}),
}) for role in CLIENT_ROLES)


@pytest.mark.parametrize('role', CLIENT_ROLES)
def test_client_unset_renders_what_earlier_releases_did(rendered, role):
    config, service, text = client_files(rendered, CLIENT[role]['unset'])
    assert config['proxy']['registryMirror'] == {'addr': 'https://registry-1.docker.io', 'enableTaskIDBasedBlobDigest': False}
    assert 'environment' not in service
    assert CA_MOUNT not in service['volumes']
    assert config_hash(service) == sha256(text)


@pytest.mark.parametrize('role', CLIENT_ROLES)
def test_client_ca_bundle_shared_setting(rendered, role):
    config, service, text = client_files(rendered, CLIENT[role]['shared_ca'])
    assert config['proxy']['registryMirror']['cert'] == CA_PATH
    assert CA_MOUNT in service['volumes']
    assert config_hash(service) == sha256(text + CA)


@pytest.mark.parametrize('role', CLIENT_ROLES)
def test_client_ca_bundle_of_its_own(rendered, role):
    assert client_files(rendered, CLIENT[role]['own_ca'])[0]['proxy']['registryMirror']['cert'] == CA_PATH
    config, service, _text = client_files(rendered, CLIENT[role]['own_ca_empty'])
    assert 'cert' not in config['proxy']['registryMirror']
    assert CA_MOUNT not in service['volumes']


@pytest.mark.parametrize('role', CLIENT_ROLES)
def test_client_ca_bundle_change_restarts_dfdaemon(rendered, role):
    first = client_files(rendered, CLIENT[role]['shared_ca'])
    second = client_files(rendered, CLIENT[role]['other_ca'])
    assert first[2] == second[2]
    assert config_hash(first[1]) != config_hash(second[1])


@pytest.mark.parametrize('role', CLIENT_ROLES)
def test_client_proxies(rendered, role):
    assert client_files(rendered, CLIENT[role]['proxies'])[1]['environment'] == proxy_environment()
    assert 'environment' not in client_files(rendered, CLIENT[role]['own_proxy_empty'])[1]


# ------------------------------------------------------------------------------------------ the entry point origins

def origins(role_prefix, **values):
    settings = {'ca_bundle': '', 'http_proxy': '', 'https_proxy': '', 'no_proxy': ''}
    settings.update(values)
    names = {'ca_bundle_variable': role_prefix + 'registry_ca_bundle', 'http_proxy_variable': role_prefix + 'http_proxy',
             'https_proxy_variable': role_prefix + 'https_proxy', 'no_proxy_variable': role_prefix + 'no_proxy'}
    return dict(settings, **names)


CASES = {
    'good': origins('dragonfly_peer_', ca_bundle=CA + '\n' + OTHER_CA, http_proxy=PROXY,
                    https_proxy='https://proxy.example.com:3129/', no_proxy=NO_PROXY),
    'empty': origins('dragonfly_peer_'),
    'ca_not_pem': origins('dragonfly_peer_', ca_bundle='/etc/ssl/certs/ca.pem'),
    'ca_with_key': origins('dragonfly_seed_peer_', ca_bundle=CA + '\n-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----'),
    'credentials': origins('dragonfly_manager_', https_proxy='http://alice:s3cret@proxy.example.com:3128'),
    'credentials_no_scheme': origins('dragonfly_peer_', http_proxy='alice:s3cret@proxy.example.com:3128'),
    'no_scheme': origins('dragonfly_peer_', http_proxy='proxy.example.com:3128'),
    'no_proxy_spaces': origins('dragonfly_peer_', no_proxy='a.example.com, b.example.com'),
}


@pytest.fixture(scope='module')
def origins_results():
    """Each case through the entry point's task file in one ansible-playbook run: None or the refusal."""
    tasks = os.path.join(ROLES_DIR, '_common', 'tasks', 'origins.yml')
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'results.json')
        play = {'hosts': 'localhost', 'gather_facts': False, 'vars': {'results': {}}, 'tasks': []}
        for name, case in CASES.items():
            play['tasks'].append({
                'name': name,
                'block': [
                    {'ansible.builtin.include_tasks': tasks, 'vars': {'_dragonfly_origins': case}},
                    {'ansible.builtin.set_fact': {'results': "{{ results | combine({%r: None}) }}" % name}},
                ],
                'rescue': [{'ansible.builtin.set_fact': {
                    'results': "{{ results | combine({%r: ansible_failed_result.msg}) }}" % name}}],
            })
        play['tasks'].append({'ansible.builtin.copy': {'content': '{{ results | to_json }}', 'dest': out}})
        playbook = os.path.join(tmp, 'play.yml')
        with open(playbook, 'w') as f:
            yaml.safe_dump([play], f)
        env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,',
                   '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable, playbook]
        run = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        with open(out) as f:
            return json.load(f), run.stdout + run.stderr


@pytest.mark.parametrize('case', ['good', 'empty'])
def test_origins_accepts(origins_results, case):
    assert origins_results[0][case] is None


@pytest.mark.parametrize('case, words', [
    ('ca_not_pem', ['dragonfly_peer_registry_ca_bundle', 'dragonfly_registry_ca_bundle', 'BEGIN CERTIFICATE', 'not a file name']),
    ('ca_with_key', ['dragonfly_seed_peer_registry_ca_bundle', 'private key', '0644']),
    ('credentials', ['dragonfly_manager_https_proxy', 'dragonfly_https_proxy', 'without credentials', 'docker inspect',
                     'http://<credentials>@proxy.example.com:3128']),
    ('credentials_no_scheme', ['dragonfly_peer_http_proxy', 'without credentials', '<credentials>@proxy.example.com']),
    ('no_scheme', ['dragonfly_peer_http_proxy', 'proxy.example.com:3128', 'scheme http or https']),
    ('no_proxy_spaces', ['dragonfly_peer_no_proxy', 'dragonfly_no_proxy', 'white space']),
])
def test_origins_refuses_naming_the_variable(origins_results, case, words):
    message = origins_results[0][case]
    assert message, 'case %s was accepted' % case
    missing = [word for word in words if word not in message]
    assert not missing, 'the refusal of %s lacks %s: %s' % (case, missing, message)
    assert 'Nothing was changed' in message


def test_origins_never_shows_a_password(origins_results):
    results, output = origins_results
    assert 's3cret' not in json.dumps(results)
    assert 's3cret' not in output


if __name__ == '__main__':
    # The child process of the fixture rendered: the cases on standard input, the files on standard output.
    print(json.dumps(render_all(json.load(sys.stdin))))
