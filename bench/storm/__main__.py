from bench.storm.run import main

main()
