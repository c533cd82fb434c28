from bench.chart.run import main

main()
