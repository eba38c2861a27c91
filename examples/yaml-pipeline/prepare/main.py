"""Batch stage: checks that it received its two arguments (from `args` in bodywork.yaml)."""
import sys


def main(args: list) -> int:
    if len(args) != 2:
        print(f'expected two arguments, got {args!r}', file=sys.stderr)
        return 1
    print(f'prepare: {" ".join(args)}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
