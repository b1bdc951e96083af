"""Check the collection as a user meets it: installed from the built tarball into an empty collections path.

- the licence the metadata names is the licence the files cite, and every file it cites is installed;
- every relative link of the README resolves inside the installed collection, and the README's part for users
  (before its "Contributing" section) names nothing of the checkout that the tarball lacks (scripts/, tests/,
  benchmarks/);
- the release notes describe the installed version;
- ansible-doc, reading only the installed collection, documents every module and every role entry point.

Usage: check_installed.py INSTALLED_DIR (.../ansible_collections/p2p/dragonfly); ANSIBLE_COLLECTIONS_PATH must
name the collections path it is installed in, and nothing else that holds p2p.dragonfly.
"""
import json
import os
import re
import subprocess
import sys

import yaml

CITED = re.compile(r'see (LICENSES/[A-Za-z0-9.+-]+\.txt)')
SPDX = re.compile(r'SPDX-License-Identifier: ([A-Za-z0-9.+-]+)')
LINK = re.compile(r'\]\(([^)#\s]+)(?:#[^)]*)?\)')
CONTRIBUTING_HEADING = '## Contributing'


def text_files(root):
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            try:
                with open(path, encoding='utf-8') as f:
                    yield os.path.relpath(path, root), f.read()
            except (UnicodeDecodeError, OSError):
                continue


def check_licences(root, manifest, problems):
    licences = set(manifest['collection_info']['license'])
    cited, spdx = set(), set()
    for rel, text in text_files(root):
        if rel.startswith('LICENSES/'):
            continue
        cited.update(CITED.findall(text))
        spdx.update(SPDX.findall(text))
    for path in sorted(cited):
        if not os.path.isfile(os.path.join(root, path)):
            problems.append('files cite %s, which is not installed' % path)
    if spdx - licences:
        problems.append('files declare %s, the metadata names %s' % (sorted(spdx), sorted(licences)))
    for licence in licences:
        if not os.path.isfile(os.path.join(root, 'LICENSES', licence + '.txt')):
            problems.append('the metadata names %s but LICENSES/%s.txt is not installed' % (licence, licence))
    if not cited:
        problems.append('no file cites its licence file: the check found nothing to check')


def check_readme(root, problems):
    with open(os.path.join(root, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    if CONTRIBUTING_HEADING not in readme:
        problems.append('README.md has no "%s" section' % CONTRIBUTING_HEADING)
    users_part = readme.split(CONTRIBUTING_HEADING)[0]
    for command in sorted(set(re.findall(r'\b(?:scripts|tests|benchmarks)/[\w./-]+', users_part))):
        problems.append('README.md names %s before "%s": not in the installed collection'
                        % (command, CONTRIBUTING_HEADING))
    links = [link for link in LINK.findall(readme) if '://' not in link]
    for link in links:
        if not os.path.exists(os.path.join(root, link)):
            problems.append('README.md links %s, which is not in the installed collection' % link)
    if not links:
        problems.append('README.md has no relative link: the check found nothing to check')


def check_release_notes(root, manifest, problems):
    version = manifest['collection_info']['version']
    with open(os.path.join(root, 'CHANGELOG.rst'), encoding='utf-8') as f:
        if '\nv%s\n' % version not in f.read():
            problems.append('CHANGELOG.rst has no section for the installed version %s' % version)
    with open(os.path.join(root, 'changelogs', 'changelog.yaml'), encoding='utf-8') as f:
        if version not in (yaml.safe_load(f).get('releases') or {}):
            problems.append('changelogs/changelog.yaml has no release %s' % version)


def ansible_doc(*args):
    proc = subprocess.run(['ansible-doc', '--json'] + list(args), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError('ansible-doc %s: %s' % (' '.join(args), proc.stderr.strip()[-500:]))
    return json.loads(proc.stdout)


def check_ansible_doc(root, problems):
    modules = sorted(n[:-3] for n in os.listdir(os.path.join(root, 'plugins', 'modules'))
                     if n.endswith('.py') and not n.startswith('_'))
    roles = sorted(os.listdir(os.path.join(root, 'roles')))
    try:
        listed = ansible_doc('-t', 'module', '--list', 'p2p.dragonfly')
        missing = sorted(set('p2p.dragonfly.' + m for m in modules) - set(listed))
        if missing:
            problems.append('ansible-doc --list does not show %s' % missing)
        docs = ansible_doc('-t', 'module', *['p2p.dragonfly.' + m for m in modules])
        for name, doc in docs.items():
            filename = doc['doc'].get('filename', '')
            if not os.path.realpath(filename).startswith(os.path.realpath(root) + os.sep):
                problems.append('ansible-doc read %s from %s, not from the installed collection' % (name, filename))
        for role in roles:
            entry_points = ansible_doc('-t', 'role', 'p2p.dragonfly.' + role)['p2p.dragonfly.' + role]['entry_points']
            if 'main' not in entry_points:
                problems.append('ansible-doc shows no main entry point for role %s' % role)
    except RuntimeError as exc:
        problems.append(str(exc))
    return len(modules), len(roles)


def main(root):
    with open(os.path.join(root, 'MANIFEST.json')) as f:
        manifest = json.load(f)
    problems = []
    check_licences(root, manifest, problems)
    check_readme(root, problems)
    check_release_notes(root, manifest, problems)
    modules, roles = check_ansible_doc(root, problems)
    if problems:
        print('installed collection %s:\n  %s' % (root, '\n  '.join(problems)))
        return 1
    print('installed collection: licence files, README links, release notes for %s, ansible-doc of %d modules and '
          '%d roles, all from %s' % (manifest['collection_info']['version'], modules, roles, root))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
