"""`python -m stepline.cli`, the same as the `stepline` command."""

from stepline.cli import main

main()
