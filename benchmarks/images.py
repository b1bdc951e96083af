"""What the benchmarks say about the images they measured (imported by pull.py and preheat.py)."""
import subprocess


def client_builds():
    """Which client build the images here are: 'dragonflyoss/client:<tag> opt-level <n>' for each (the level
    tests/images/build.sh records; 'official' for an image it did not build)."""
    tags = subprocess.run(['docker', 'images', 'dragonflyoss/client', '--format', '{{.Repository}}:{{.Tag}}'],
                          capture_output=True, text=True, check=False).stdout.split()
    builds = []
    for tag in sorted(tags):
        level = subprocess.run(['docker', 'image', 'inspect', '-f',
                                '{{index .Config.Labels "org.p2p-dragonfly.client-opt-level"}}', tag],
                               capture_output=True, text=True, check=False).stdout.strip()
        builds.append('%s opt-level %s' % (tag, level) if level and level != '<no value>' else tag + ' official')
    return ', '.join(builds) or 'none'
