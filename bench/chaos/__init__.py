"""The chaos run (issue 7): orders on every path through worker kills, server restarts and
flaky simulators; passes when nothing is lost, duplicated or fired twice (``make chaos``)."""
