// The SchedulerExtender module
import Locality
