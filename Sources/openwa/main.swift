OpenWACommand.main()
