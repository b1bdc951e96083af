"""Check the build context `ansible-builder create` made from examples/execution-environment.yml.

`ansible-builder create` (no container runtime, no network) only writes the context: the Containerfile, the
galaxy requirements and the additional build files under _build/, and builder's own scripts under
_build/scripts/. It does not read the collections' meta/execution-environment.yml: the builder stage of the image
build does, with _build/scripts/introspect.py, after the galaxy stage installed the collections. scripts/test.sh
ee re-enacts that galaxy stage offline (ansible-galaxy in the context's _build/ directory) and passes the result
here, so this script runs that same introspect.py on it.

Usage: check_ee.py CONTEXT_DIR INSTALLED_COLLECTIONS_DIR EXAMPLES_DIR
"""
import filecmp
import importlib.util
import json
import os
import re
import sys
import tarfile

import yaml

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
NAMESPACE, NAME = 'p2p', 'dragonfly'


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def requirement_lines(path):
    """The lines introspect.py would take from a requirements file: neither empty nor comments."""
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.strip().startswith('#')]


def check_base_image(definition, containerfile, problems):
    image = definition['images']['base_image']['name']
    registry = image.split('/')[0]
    if '/' not in image or ('.' not in registry and ':' not in registry):
        problems.append(f'base image {image} is not fully qualified (registry host first)')
    if '@sha256:' not in image and (':' not in image.split('/')[-1] or image.endswith(':latest')):
        problems.append(f'base image {image} is not pinned to a tag or digest other than latest')
    if f'ARG EE_BASE_IMAGE="{image}"' not in containerfile:
        problems.append(f'the Containerfile does not build FROM {image}')
    for tag in definition.get('options', {}).get('tags', []):
        if ':' not in tag or tag.endswith(':latest'):
            problems.append(f'image tag {tag} is not versioned')


def check_galaxy_stage(context, examples, containerfile, galaxy, problems):
    build = os.path.join(context, '_build')
    copied = os.path.join(build, 'requirements.yml')
    if not os.path.isfile(copied) or not filecmp.cmp(copied, os.path.join(examples, 'requirements.yml'), shallow=False):
        problems.append('_build/requirements.yml is not a copy of examples/requirements.yml')
        return
    for step in ('COPY _build /build', 'WORKDIR /build', 'ansible-galaxy collection install', '-r requirements.yml',
                 'introspect.py introspect'):
        if step not in containerfile:
            problems.append(f'the Containerfile lacks "{step}"')
    collections = load_yaml(copied)['collections']
    ours = [req for req in collections if req.get('type') == 'file']
    if not ours:
        problems.append('requirements.yml installs p2p.dragonfly from no tarball')
    for req in ours:
        # The galaxy stage runs ansible-galaxy in /build, the copy of _build/: the path is relative to it.
        tarball = os.path.join(build, req['name'])
        if not os.path.isfile(tarball):
            problems.append(f"{req['name']} is not in the build context (additional_build_files)")
            continue
        with tarfile.open(tarball) as tar:
            info = json.load(tar.extractfile('MANIFEST.json'))['collection_info']
        if (info['namespace'], info['name'], info['version']) != (NAMESPACE, NAME, galaxy['version']):
            problems.append(f"{req['name']} holds {info['namespace']}.{info['name']} {info['version']}, "
                            f"not {NAMESPACE}.{NAME} {galaxy['version']} (galaxy.yml)")
    docker = [req for req in collections if req.get('name') == 'community.docker']
    version = str(docker[0].get('version', '')) if docker else ''
    match = re.match(r'^(?:==)?(\d+)\.\d+\.\d+$', version)
    if not match or int(match.group(1)) < 4:
        problems.append(f'community.docker must be pinned to a version >= 4 (docker_compose_v2), not {version!r}')


def check_introspection(context, installed, problems):
    """What the builder stage will see of p2p.dragonfly's meta/execution-environment.yml."""
    collection = os.path.join(installed, 'ansible_collections', NAMESPACE, NAME)
    if not os.path.isfile(os.path.join(collection, 'MANIFEST.json')):
        problems.append(f'the offline galaxy stage did not install {NAMESPACE}.{NAME} into {installed}')
        return {}
    spec = importlib.util.spec_from_file_location('introspect', os.path.join(context, '_build', 'scripts', 'introspect.py'))
    introspect = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(introspect)
    definition = introspect.CollectionDefinition(collection)
    if definition.raw != load_yaml(os.path.join(REPO_ROOT, 'meta', 'execution-environment.yml')):
        problems.append("introspect.py did not read the collection's meta/execution-environment.yml")
        return {}
    found = introspect.process(data_dir=installed)
    key = f'{NAMESPACE}.{NAME}'
    result = {}
    for entry in ('python', 'system'):
        relative = definition.get_dependency(entry)
        if not relative or not os.path.isfile(os.path.join(collection, relative)):
            problems.append(f'meta/execution-environment.yml names no {entry} requirements file that the tarball ships')
            continue
        expected = requirement_lines(os.path.join(collection, relative))
        if found[entry].get(key, []) != expected:
            problems.append(f'introspect.py found {found[entry].get(key)} as {entry} requirements, not {expected}')
        result[entry] = expected
    return result


def main(context, installed, examples):
    problems = []
    containerfile_path = os.path.join(context, 'Containerfile')
    if not os.path.isfile(containerfile_path):
        print(f'no Containerfile in {context}')
        return 1
    with open(containerfile_path) as f:
        containerfile = f.read()
    definition = load_yaml(os.path.join(examples, 'execution-environment.yml'))
    galaxy = load_yaml(os.path.join(REPO_ROOT, 'galaxy.yml'))
    if definition.get('version') != 3:
        problems.append('examples/execution-environment.yml is not an ansible-builder v3 definition')
    check_base_image(definition, containerfile, problems)
    check_galaxy_stage(context, examples, containerfile, galaxy, problems)
    deps = check_introspection(context, installed, problems)
    if problems:
        print('execution environment context %s:\n  - %s' % (context, '\n  - '.join(problems)))
        return 1
    print(f"execution environment context: Containerfile FROM {definition['images']['base_image']['name']}, "
          f"{NAMESPACE}.{NAME} {galaxy['version']} tarball and requirements.yml in _build/, collection requirements "
          f"found by introspect.py: python {deps.get('python') or 'none'}, system {deps.get('system') or 'none'}")
    return 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:4]))
