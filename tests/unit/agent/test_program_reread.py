"""The agent reads the card before loading: a conductor that resumed a
bind may ask again for a load that finished, or still runs."""

import threading
import time

from cyborg_clone.agent import manager
from cyborg_clone.common import context
from cyborg_clone.drivers import fake
from tests.conftest import FakeConductor
from tests.fixtures.images import put_image

CTX = context.get_admin_context()
NAME = 'testhost_FakeDevice'


class SlowCard(fake.FakeDriver):
    """The fake card, whose loads take a while and are counted."""

    def __init__(self, conf):
        super().__init__(conf)
        self.loads = []
        self.running = 0
        self.overlapped = False

    def program(self, deployable_name, image_path):
        self.running += 1
        self.overlapped |= self.running > 1
        try:
            time.sleep(0.2)
            self.loads.append(deployable_name)
            return super().program(deployable_name, image_path)
        finally:
            self.running -= 1


def test_an_image_the_card_runs_is_not_loaded_again(conf):
    card = SlowCard(conf)
    agent = manager.AgentManager(conf, FakeConductor(), drivers=[card])
    image = put_image(conf)
    agent.program(CTX, NAME, image)
    # A restarted agent trusts what it reads from the card, nothing else.
    again = manager.AgentManager(conf, FakeConductor(), drivers=[card])
    answer = again.program(CTX, NAME, image)
    assert card.loads == [NAME]
    assert answer['function_id'] is None
    assert answer['report'][0]['deployables'][0]['bitstream_id'] == image


def test_a_second_ask_while_loading_waits_and_loads_nothing(conf):
    card = SlowCard(conf)
    agent = manager.AgentManager(conf, FakeConductor(), drivers=[card])
    image = put_image(conf)
    answers = []
    asks = [threading.Thread(target=lambda: answers.append(
        agent.program(CTX, NAME, image))) for _ in range(3)]
    for ask in asks:
        ask.start()
    for ask in asks:
        ask.join()
    assert card.loads == [NAME]
    assert not card.overlapped
    assert [a['report'][0]['deployables'][0]['bitstream_id']
            for a in answers] == [image] * 3


def test_another_image_is_loaded(conf):
    card = SlowCard(conf)
    agent = manager.AgentManager(conf, FakeConductor(), drivers=[card])
    first, second = put_image(conf), put_image(conf, b'other')
    agent.program(CTX, NAME, first)
    answer = agent.program(CTX, NAME, second)
    assert card.loads == [NAME, NAME]
    assert answer['function_id'] == second
