from bench.realpod.run import main

main()
