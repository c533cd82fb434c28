from bench.kueue.run import main

main()
