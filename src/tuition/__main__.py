from tuition.cli import main

main()
