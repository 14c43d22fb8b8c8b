from kinhteso.cli import main

main()
