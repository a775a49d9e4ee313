from convcalc.cli.app import entry

entry()
