"""``python -m foreplan.cli``: the same as the ``foreplan`` command."""

from foreplan.cli.commands import main

main()
