"""[conductor] options."""

from oslo_config import cfg

GROUP = 'conductor'

opts = [
    cfg.StrOpt('topic', default='cyborg-clone-conductor',
               help='RPC topic conductors listen on.'),
    cfg.IntOpt('bind_timeout', default=240, min=1,
               help='Seconds an ARQ may stay in BindStarted before a '
                    'conductor fails it, whichever conductor binds it: the '
                    'last resort when even resuming a bind does not end it '
                    '(an agent that never answers, a hung conductor). Keep '
                    'it below nova-compute\'s [DEFAULT]arq_binding_timeout '
                    '(300 s by default): Nova then hears that the bind '
                    'failed and why, instead of giving up on the instance '
                    'on its own. A bind still waiting for its device to be '
                    'programmed by then is failed too, as Nova would not '
                    'wait for it much longer anyway.'),
    cfg.IntOpt('periodic_interval', default=60, min=1,
               help='Seconds between the conductor\'s housekeeping runs '
                    '(stuck binds, FPGA image builds).'),
    cfg.IntOpt('program_timeout', default=300, min=1,
               help='Seconds a conductor waits for an agent to program a '
                    'deployable (vendor tools can take minutes), asking it '
                    'again whenever it falls silent '
                    '(agent_call_monitor_timeout). Keep it at least as long '
                    'as the drivers\' own timeouts ([xilinx]program_timeout, '
                    '[intel_opae]program_timeout, [huawei_vu9p]load_timeout)'
                    ', so that a load the hardware finishes is not given '
                    'up on.'),
    cfg.IntOpt('agent_call_monitor_timeout', default=20, min=2,
               help='Seconds an agent programming a deployable may go '
                    'without saying it is alive (it does every half of '
                    'this; oslo.messaging call monitoring). After that the '
                    'conductor takes the agent, or the message bus, for '
                    'restarted and asks again, until program_timeout.'),
    cfg.IntOpt('heartbeat_interval', default=5, min=1,
               help='Seconds between two heartbeats of a conductor in the '
                    'database, and between two of its sweeps for binds '
                    'that need a conductor (their own died, or their cast '
                    'was lost).'),
    cfg.IntOpt('heartbeat_timeout', default=15, min=2,
               help='Seconds after its last heartbeat when a conductor '
                    'counts as dead: the other conductors adopt and resume '
                    'its binds. Keep it at least twice heartbeat_interval; '
                    'hosts\' clocks must agree to well within it.'),
    cfg.IntOpt('unclaimed_bind_grace', default=15, min=1,
               help='Seconds a BindStarted ARQ may wait for a conductor to '
                    'pick its cast up before a conductor adopts it as if '
                    'the cast had been lost (a message bus restart loses '
                    'the casts it holds).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]
