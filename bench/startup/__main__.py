from bench.startup.run import main

main()
