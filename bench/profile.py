"""Profile one benchmark case with cProfile (all threads) and print the top functions.

    python -m bench.profile [--path legacy] [--shape dag] [--n 500] [--ops create update]
                            [--tripleo small|large] [--sort cumulative|tottime] [--limit 40]

--tripleo profiles the TripleO example case (create and delete against a simcloud process)
instead of a shape.
"""

import argparse
import cProfile
import pstats
import threading

from bench import paths as paths_mod
from bench import shapes


def main(argv=None):
    """Run the case under cProfile, profiling every thread, and print the statistics."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--path', default='legacy', choices=list(paths_mod.PATHS))
    ap.add_argument('--shape', default='dag', choices=shapes.SHAPES)
    ap.add_argument('--n', type=int, default=500)
    ap.add_argument('--ops', nargs='+', default=['create', 'update', 'delete'])
    ap.add_argument('--tripleo', choices=('small', 'large'),
                    help='profile the TripleO example case with this environment')
    ap.add_argument('--sort', default='tottime')
    ap.add_argument('--limit', type=int, default=40)
    args = ap.parse_args(argv)
    profiles = []

    def trace(*_args):
        prof = cProfile.Profile()
        profiles.append(prof)
        prof.enable()

    # Every new thread enables its own profiler on first call.
    threading.setprofile(trace)
    main_prof = cProfile.Profile()
    profiles.append(main_prof)
    case = {'path': args.path, 'shape': args.shape, 'n': args.n, 'width': shapes.WIDTH,
            'tracemalloc': False, 'ops': args.ops}
    if args.tripleo:
        case = {'path': args.path, 'kind': 'tripleo', 'env': args.tripleo, 'build_time': 0.0}
    main_prof.enable()
    figures = paths_mod.PATHS[args.path].measure(case)
    main_prof.disable()
    threading.setprofile(None)
    for prof in profiles:
        prof.disable()
    stats = pstats.Stats(profiles[0])
    for prof in profiles[1:]:
        try:
            stats.add(prof)
        except TypeError:
            pass    # a thread that never ran profiled code
    print(figures)
    stats.sort_stats(args.sort).print_stats(args.limit)


if __name__ == '__main__':
    main()
