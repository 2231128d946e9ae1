// The Mutators module
import Locality
