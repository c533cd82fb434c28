from bench.replicas.run import main

main()
