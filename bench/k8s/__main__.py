from bench.k8s.run import main

main()
