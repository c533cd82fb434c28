from bench.control_plane.run import main

main()
