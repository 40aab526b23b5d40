"""`python -m scheduler_extender` runs the same command as the `scheduler-extender` script."""
from .cli import main

if __name__ == "__main__":
    main()
