#!/bin/bash
#
# DevStack plugin entry point for cyborg_clone. DevStack sources this file
# once per phase with the phase as arguments ("stack install",
# "stack post-config", "stack extra", "unstack", "clean", and others this
# plugin has nothing to do in).

# Next to this file wherever DevStack cloned the repository, even if
# CYBORG_CLONE_DIR was pointed elsewhere.
# shellcheck source=lib/cyborg_clone
source "$(dirname "${BASH_SOURCE[0]}")/lib/cyborg_clone"

# unstack and clean come without a second argument.
case "${1:-}/${2:-}" in
    stack/install)
        if is_cyborg_clone_enabled; then
            echo_summary "Installing cyborg_clone"
            install_cyborg_clone
        fi
        ;;
    stack/post-config)
        # Keystone, the database server and RabbitMQ run by now; nova is
        # configured but not started, so its config can still change.
        if is_cyborg_clone_enabled; then
            echo_summary "Configuring cyborg_clone"
            configure_cyborg_clone
            # The catalog entry goes with the API, on the node serving it.
            if is_service_enabled "$CYBORG_CLONE_API_SERVICE"; then
                create_cyborg_clone_accounts
            fi
        fi
        if is_service_enabled nova; then
            echo_summary "Configuring nova for cyborg_clone"
            configure_nova_for_cyborg_clone
        fi
        ;;
    stack/extra)
        # Placement and nova run by now: the conductor can report devices.
        if is_cyborg_clone_enabled; then
            echo_summary "Initializing and starting cyborg_clone"
            init_cyborg_clone
            start_cyborg_clone
        fi
        ;;
    unstack/*)
        stop_cyborg_clone
        ;;
    clean/*)
        cleanup_cyborg_clone
        ;;
esac
