from bench.console.run import main

main()
