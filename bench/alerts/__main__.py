from bench.alerts.run import main

main()
