"""The generated samples in etc/cyborg_clone/ match what the generators
make from the code now: an option or policy default changed without
regenerating them fails here, naming the command that fixes it."""

import difflib
import pathlib

from oslo_config import cfg
from oslo_config import generator as config_generator
from oslo_policy import generator as policy_generator
import pytest

from tests import logging_state

REPO = pathlib.Path(__file__).resolve().parents[2]
ETC = REPO / 'etc' / 'cyborg_clone'

# Lines of the difference shown; enough to see which options moved.
DIFF_LINES = 40


def _generate_config(generator_conf, output):
    config_generator.main(['--config-file', str(generator_conf),
                           '--output-file', str(output)])


def _generate_policy(generator_conf, output):
    # A ConfigOpts of its own: by default the generator parses into the
    # process-wide cfg.CONF.
    policy_generator.generate_sample(
        ['--config-file', str(generator_conf), '--output-file', str(output)],
        conf=cfg.ConfigOpts())


SAMPLES = [
    pytest.param('cyborg_clone.conf.sample',
                 'cyborg-clone-config-generator.conf', _generate_config,
                 'tox -e genconfig', 'oslo-config-generator', id='config'),
    pytest.param('policy.yaml.sample', 'cyborg-clone-policy-generator.conf',
                 _generate_policy, 'tox -e genpolicy',
                 'oslopolicy-sample-generator', id='policy'),
]


@pytest.mark.parametrize('sample, generator_conf, generate, tox, command',
                         SAMPLES)
def test_committed_sample_is_up_to_date(tmp_path, sample, generator_conf,
                                        generate, tox, command):
    fresh = tmp_path / sample
    # The generators configure logging for a command line of their own.
    with logging_state.preserved():
        generate(ETC / generator_conf, fresh)

    committed = (ETC / sample).read_text().splitlines(keepends=True)
    generated = fresh.read_text().splitlines(keepends=True)
    if committed != generated:
        diff = list(difflib.unified_diff(
            committed, generated, 'etc/cyborg_clone/%s (committed)' % sample,
            '%s (generated now)' % sample))
        shown = ''.join(diff[:DIFF_LINES])
        if len(diff) > DIFF_LINES:
            shown += '... (%d more lines)\n' % (len(diff) - DIFF_LINES)
        pytest.fail(
            'etc/cyborg_clone/%s is stale: regenerate it with "%s" (or '
            '".venv/bin/%s --config-file etc/cyborg_clone/%s") and commit '
            'the result.\n%s' % (sample, tox, command, generator_conf, shown),
            pytrace=False)
