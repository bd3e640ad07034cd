import ArgumentParser

OpenWACommand.main()
